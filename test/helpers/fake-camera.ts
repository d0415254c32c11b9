import { writeFileSync } from 'node:fs';
import sharp from 'sharp';

/** The fake camera's frame size and rate (Chromium's `--use-file-for-fake-video-capture`). */
export const CAMERA = { width: 640, height: 480, fps: 10 };

/** A page of print filling a camera frame, as 8-bit luma. */
export async function cameraFrame(png: Buffer): Promise<Buffer> {
  return sharp(png).resize(CAMERA.width, CAMERA.height, { fit: 'contain', background: '#fff' }).grayscale().raw().toBuffer();
}

/** A fake camera's video (YUV4MPEG2, 4:2:0, grey: chroma at 128) of [luma, how many frames] phases; Chromium plays it in a loop. */
export function writeVideo(path: string, phases: [Buffer, number][]): void {
  const { width, height, fps } = CAMERA;
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (const [luma, count] of phases) for (let i = 0; i < count; i++) parts.push(Buffer.from('FRAME\n'), luma, chroma);
  writeFileSync(path, Buffer.concat(parts));
}
