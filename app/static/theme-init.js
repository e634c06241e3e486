// Applies the saved theme before first paint so dark-mode users never see a
// light flash. Kept as a static file (not inline) so a strict CSP still allows it.
(function () {
  try {
    var theme = localStorage.getItem('shoal:theme');
    if (theme === 'light' || theme === 'dark') {
      document.documentElement.setAttribute('data-theme', theme);
    }
  } catch {
    // Storage may be blocked; the OS preference still applies.
  }
})();
