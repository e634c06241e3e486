/**
 * @module server/net/image-sniff
 * Which raster image a byte buffer really is, from its magic bytes. The image
 * proxy and inline attachments serve only these types, under the type the
 * bytes prove, never the type a remote server or a sender declared: an HTML
 * page or an SVG with script labelled `image/png` is refused.
 */

/** Raster types Shoal serves as images. SVG is deliberately absent: it is a document that can carry script. */
export const RASTER_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'image/x-icon'] as const;
export type RasterType = (typeof RASTER_TYPES)[number];

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0) => prefix.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** The raster type the bytes are, or null when they are not one of {@link RASTER_TYPES}. */
export function sniffImage(bytes: Uint8Array): RasterType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return 'image/png';
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) {
    return 'image/jpeg';
  }
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) {
    return 'image/gif';
  }
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) {
    return 'image/webp';
  }
  if (startsWith(bytes, ascii('ftyp'), 4) && (startsWith(bytes, ascii('avif'), 8) || startsWith(bytes, ascii('avis'), 8))) {
    return 'image/avif';
  }
  if (startsWith(bytes, ascii('BM')) && bytes.length > 26) {
    return 'image/bmp';
  }
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) && bytes.length > 6) {
    return 'image/x-icon';
  }
  return null;
}

/** Whether a declared Content-Type names a raster image we accept (parameters ignored). */
export function isRasterContentType(contentType: string | null | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return (RASTER_TYPES as readonly string[]).includes(type) || type === 'image/jpg' || type === 'image/vnd.microsoft.icon';
}
