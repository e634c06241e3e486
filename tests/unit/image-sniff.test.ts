import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/env';
import { parseImageUrl } from '../../server/net/image-fetch';
import { isRasterContentType, sniffImage } from '../../server/net/image-sniff';

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe('sniffImage', () => {
  it('recognises each raster type by its magic bytes', () => {
    expect(sniffImage(bytes([0x89], 'PNG\r\n', [0x1a, 0x0a], [0, 0]))).toBe('image/png');
    expect(sniffImage(bytes([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImage(bytes('GIF89a', [1, 0]))).toBe('image/gif');
    expect(sniffImage(bytes('GIF87a'))).toBe('image/gif');
    expect(sniffImage(bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '))).toBe('image/webp');
    expect(sniffImage(bytes([0, 0, 0, 0x1c], 'ftypavif', [0, 0]))).toBe('image/avif');
    expect(sniffImage(bytes('BM', new Array<number>(30).fill(0)))).toBe('image/bmp');
    expect(sniffImage(bytes([0, 0, 1, 0, 1, 0, 16]))).toBe('image/x-icon');
  });

  it('refuses documents, SVG and truncated headers whatever they claim to be', () => {
    expect(sniffImage(bytes('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'))).toBeNull();
    expect(sniffImage(bytes('<!doctype html><script>alert(1)</script>'))).toBeNull();
    expect(sniffImage(bytes('RIFF', [0, 0, 0, 0], 'WAVE'))).toBeNull();
    expect(sniffImage(bytes([0x89], 'PN'))).toBeNull();
    expect(sniffImage(new Uint8Array())).toBeNull();
  });

  it('accepts only raster Content-Types', () => {
    expect(isRasterContentType('image/png')).toBe(true);
    expect(isRasterContentType('IMAGE/JPEG; charset=binary')).toBe(true);
    expect(isRasterContentType('image/svg+xml')).toBe(false);
    expect(isRasterContentType('text/html')).toBe(false);
    expect(isRasterContentType(undefined)).toBe(false);
  });
});

describe('parseImageUrl', () => {
  it('takes http(s) only, without credentials', () => {
    expect(parseImageUrl('https://cdn.example.com/a.png').hostname).toBe('cdn.example.com');
    for (const bad of ['file:///etc/passwd', 'ftp://x/a.png', 'gopher://x/', 'javascript:alert(1)', 'data:image/png;base64,AA', 'http://u:p@x/a.png', '//x/a.png']) {
      expect(() => parseImageUrl(bad), bad).toThrow();
    }
  });

  it('normalises numeric IPv4 spellings, so the address check sees the real address', () => {
    for (const spelling of ['2130706433', '0177.0.0.1', '0x7f.0.0.1', '127.1']) {
      expect(parseImageUrl(`http://${spelling}/`).hostname).toBe('127.0.0.1');
    }
  });
});

describe('IMAGE_PROXY_ALLOW_PRIVATE', () => {
  it('is empty by default and takes address:port pairs only', () => {
    expect(loadConfig({}).imageProxyAllowedPrivate).toEqual([]);
    expect(loadConfig({ IMAGE_PROXY_ALLOW_PRIVATE: '10.0.0.5:8080, [fd00::5]:443' }).imageProxyAllowedPrivate).toEqual(['10.0.0.5:8080', 'fd00::5:443']);
    expect(() => loadConfig({ IMAGE_PROXY_ALLOW_PRIVATE: '10.0.0.5' })).toThrow(/IMAGE_PROXY_ALLOW_PRIVATE/);
    expect(() => loadConfig({ IMAGE_PROXY_ALLOW_PRIVATE: 'intranet.local:80' })).toThrow(/IMAGE_PROXY_ALLOW_PRIVATE/);
  });
});
