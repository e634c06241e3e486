/**
 * @module app/lib/components/icons
 * Path data for the app's small line-icon set (24×24, stroked). Drawn for
 * Shoal rather than taken from an icon package.
 */

function circle(cx: number, cy: number, r: number): string {
  return `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;
}

function rect(x: number, y: number, w: number, h: number, r: number): string {
  return (
    `M${x + r} ${y}h${w - 2 * r}a${r} ${r} 0 0 1 ${r} ${r}v${h - 2 * r}` +
    `a${r} ${r} 0 0 1 ${-r} ${r}h${-(w - 2 * r)}a${r} ${r} 0 0 1 ${-r} ${-r}` +
    `v${-(h - 2 * r)}a${r} ${r} 0 0 1 ${r} ${-r}z`
  );
}

export const ICONS = {
  inbox: ['M3 13h5l2 3h4l2-3h5', 'M5.6 5h12.8L21 13v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-6z'],
  people: [
    circle(9, 8, 3.5),
    'M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6',
    'M16 4.6a3.5 3.5 0 0 1 0 6.8',
    'M18 14.3c2.1.8 3.5 2.9 3.5 5.7',
  ],
  user: [circle(12, 8, 4), 'M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7'],
  menu: ['M4 6h16', 'M4 12h16', 'M4 18h16'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  sun: [
    circle(12, 12, 4),
    'M12 2.5v2M12 19.5v2M4.6 4.6l1.4 1.4M18 18l1.4 1.4M2.5 12h2M19.5 12h2M4.6 19.4L6 18M18 6l1.4-1.4',
  ],
  moon: ['M20 14.5A8 8 0 1 1 9.5 4a6.5 6.5 0 0 0 10.5 10.5z'],
  monitor: [rect(3, 4, 18, 12, 2), 'M8 20h8', 'M12 16v4'],
  logout: ['M9 20H5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1h4', 'M16 16.5l4.5-4.5L16 7.5', 'M20.5 12H9'],
  copy: [rect(9, 9, 12, 12, 2), 'M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1'],
  check: ['M5 12.5l4.5 4.5L19 7.5'],
  plus: ['M12 5v14', 'M5 12h14'],
  chevronsUpDown: ['M8 9l4-4 4 4', 'M8 15l4 4 4-4'],
  alert: [circle(12, 12, 9), 'M12 7.5v5.5', 'M12 16.5v.01'],
  info: [circle(12, 12, 9), 'M12 11v5', 'M12 7.5v.01'],
  trash: [
    'M4 7h16',
    'M10 11v6M14 11v6',
    'M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12',
    'M9 7V4h6v3',
  ],
  pencil: ['M4 20h4L19 9a2.8 2.8 0 0 0-4-4L4 16v4z', 'M13.5 6.5l4 4'],
  mail: [rect(3, 5, 18, 14, 2), 'M3.5 6.5l8.5 6.5 8.5-6.5'],
  lock: [rect(5, 11, 14, 10, 2), 'M8 11V7a4 4 0 0 1 8 0v4'],
  server: [rect(3, 4, 18, 7, 2), rect(3, 13, 18, 7, 2), 'M7 7.5v.01', 'M7 16.5v.01', 'M11 7.5h6', 'M11 16.5h6'],
  share: [circle(6, 12, 2.5), circle(18, 6, 2.5), circle(18, 18, 2.5), 'M8.2 10.9l7.6-3.8', 'M8.2 13.1l7.6 3.8'],
  building: [rect(5, 3, 14, 18, 1.5), 'M9 7h2M13 7h2M9 11h2M13 11h2M9 15h2M13 15h2', 'M10.5 21v-3h3v3'],
  link: [
    'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1',
    'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  ],
  records: [rect(3, 5, 18, 14, 2), circle(9, 11, 2), 'M5.5 16.5c.6-1.6 1.9-2.5 3.5-2.5s2.9.9 3.5 2.5', 'M15 10h3', 'M15 13.5h3'],
  upload: ['M12 15V4', 'M7.5 8.5L12 4l4.5 4.5', 'M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4'],
  search: [circle(11, 11, 6.5), 'M16 16l4.5 4.5'],
  paperclip: ['M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8'],
  arrowLeft: ['M19 12H5', 'M11 6l-6 6 6 6'],
  chevronUp: ['M6 15l6-6 6 6'],
  chevronDown: ['M6 9l6 6 6-6'],
  reply: ['M9 15L4 10l5-5', 'M4 10h10a6 6 0 0 1 6 6v3'],
  replyAll: ['M11 15L6 10l5-5', 'M7 15l-5-5 5-5', 'M6 10h8a6 6 0 0 1 6 6v3'],
  forward: ['M15 15l5-5-5-5', 'M20 10H10a6 6 0 0 0-6 6v3'],
  send: ['M21 3L10 14', 'M21 3l-7 18-4-7-7-4z'],
} as const satisfies Record<string, readonly string[]>;

export type IconName = keyof typeof ICONS;
