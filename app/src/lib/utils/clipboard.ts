/**
 * @module app/lib/utils/clipboard
 * Copies text, falling back to a hidden textarea where the async API is unavailable.
 */

/**
 * @param text What to copy.
 * @returns Whether the copy succeeded.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return legacyCopy(text);
  }
}

function legacyCopy(text: string): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  // Append inside an open modal dialog if there is one, so the selection isn't inert.
  const host = document.querySelector('dialog[open]') ?? document.body;
  host.appendChild(area);
  area.select();
  let ok: boolean;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
