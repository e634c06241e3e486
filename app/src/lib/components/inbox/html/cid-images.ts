/**
 * @module app/lib/components/inbox/html/cid-images
 * A message's own inline images (`cid:` in its HTML), fetched from the
 * attachment endpoint with the viewer's session and handed to the frame as
 * data: URLs: the sandboxed frame has an opaque origin, so it can load
 * neither our blob: URLs nor a cookie-authenticated URL. Raster types only,
 * with per-image and total caps.
 */
import type { Api } from '$lib/api';
import type { AttachmentDto } from '$sync/mail-api';

const RASTER = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const MAX_TOTAL_BYTES = 20 * 1024 * 1024;

function dataUrl(blob: Blob, type: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the image'));
    // The declared raster type, never the server's header: the data: URL's type is ours to choose.
    reader.readAsDataURL(new Blob([blob], { type }));
  });
}

/** The attachments the HTML may show inline: a Content-ID, a raster type, within the caps. */
export function inlineCandidates(attachments: readonly AttachmentDto[]): AttachmentDto[] {
  const out: AttachmentDto[] = [];
  let total = 0;
  for (const a of attachments) {
    if (!a.contentId || !RASTER.has(a.contentType) || a.size > MAX_IMAGE_BYTES || total + a.size > MAX_TOTAL_BYTES) {
      continue;
    }
    total += a.size;
    out.push(a);
  }
  return out;
}

/** Content-ID → data: URL for each inline image that could be fetched; a failed one is simply not shown. */
export async function loadCidImages(api: Api, messageId: string, attachments: readonly AttachmentDto[]): Promise<Map<string, string>> {
  const entries = await Promise.all(
    inlineCandidates(attachments).map(async (a) => {
      try {
        return [a.contentId as string, await dataUrl(await api.getAttachment(messageId, a.index), a.contentType)] as const;
      } catch {
        return null;
      }
    }),
  );
  return new Map(entries.filter((e) => e !== null));
}
