import sharp from 'sharp';
import { randomLines, renderDocument } from '../../test/fixtures/documents.js';

export interface Seed {
  /** What the seed is, for reports: format and the encoder's options. */
  name: string;
  bytes: Buffer;
}

const XMP =
  '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>fuzz seed</dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';
const EXIF = {
  IFD0: { Make: 'Acme', Model: 'Phone 9', Software: 'Camera 4.2', Orientation: '6' },
  IFD2: { DateTimeOriginal: '2024:05:01 10:20:30', ExposureTime: '1/125', FNumber: '28/10', ISOSpeedRatings: '200' },
};

/**
 * Real files of every accepted format, encoded by libvips from a generated document page: plain,
 * with the encoders' other modes (progressive, palette, lossless, multi-page), and with EXIF, ICC
 * and XMP segments, so mutations reach the metadata parsers as well as the pixel decoders.
 * Small pages keep each input fast; the mutations make the large declared sizes.
 */
export async function makeSeeds(): Promise<Seed[]> {
  const page = await renderDocument({ lines: randomLines(61, 4), width: 360, fontSize: 20 });
  const image = () => sharp(page);
  const tagged = () => image().withExif(EXIF).withIccProfile('p3').withXmp(XMP);
  const frames = await sharp(page).extract({ left: 0, top: 0, width: 120, height: 60 }).png().toBuffer();
  const animated = (format: 'gif' | 'tiff' | 'webp') =>
    sharp([frames, frames, frames], { join: { animated: true } })
      .toFormat(format)
      .toBuffer();
  const encoded: [string, Promise<Buffer>][] = [
    ['jpeg baseline', image().jpeg({ quality: 80 }).toBuffer()],
    ['jpeg progressive', image().jpeg({ quality: 60, progressive: true }).toBuffer()],
    ['jpeg 4:4:4 optimised', image().jpeg({ quality: 90, chromaSubsampling: '4:4:4', optimiseCoding: true }).toBuffer()],
    ['jpeg grey', image().greyscale().jpeg({ quality: 70 }).toBuffer()],
    ['jpeg exif icc xmp', tagged().jpeg({ quality: 75 }).toBuffer()],
    ['png rgb', image().png().toBuffer()],
    ['png palette', image().png({ palette: true, colours: 16 }).toBuffer()],
    ['png grey 16-bit', image().toColourspace('grey16').png().toBuffer()],
    ['png interlaced alpha', image().ensureAlpha(0.8).png({ progressive: true }).toBuffer()],
    ['png exif icc xmp', tagged().png().toBuffer()],
    ['webp lossy', image().webp({ quality: 60 }).toBuffer()],
    ['webp lossless', image().webp({ lossless: true }).toBuffer()],
    ['webp exif icc xmp', tagged().webp({ quality: 70 }).toBuffer()],
    ['webp animated', animated('webp')],
    ['tiff none', image().tiff().toBuffer()],
    ['tiff deflate', image().tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer()],
    ['tiff lzw tiled', image().tiff({ compression: 'lzw', tile: true, tileWidth: 64, tileHeight: 64 }).toBuffer()],
    ['tiff jpeg', image().tiff({ compression: 'jpeg', quality: 70 }).toBuffer()],
    ['tiff exif icc xmp', tagged().tiff({ compression: 'deflate' }).toBuffer()],
    ['tiff multi-page', animated('tiff')],
    ['gif', image().gif().toBuffer()],
    ['gif interlaced', image().gif({ interFrameMaxError: 0, progressive: true }).toBuffer()],
    ['gif animated', animated('gif')],
    ['avif', image().avif({ quality: 50, effort: 0 }).toBuffer()],
    ['avif exif icc', tagged().avif({ quality: 50, effort: 0 }).toBuffer()],
  ];
  return Promise.all(encoded.map(async ([name, bytes]) => ({ name, bytes: await bytes })));
}
