// A segment() result as a picture: an RGBA layer to draw over the photo.
import { Mnv2Error } from './common.js';

/**
 * The mask of `result` (from model.segment) as RGBA pixels: each class in its color (the
 * result's classes[].color, or options.colors[index] as [r, g, b]) at `opacity` (0..1, default
 * 0.6), the background (class 0, or options.background) transparent. An ImageData where the
 * platform has one (browsers, workers), else { data, width, height }.
 */
export function maskToImageData(result, options = {}) {
  const { width, height, mask, classes } = result ?? {};
  if (!(mask instanceof Uint8Array) || !Array.isArray(classes) || mask.length !== width * height) {
    throw new Mnv2Error('E_INPUT_TYPE', 'maskToImageData needs the result of model.segment()');
  }
  const opacity = options.opacity ?? 0.6;
  if (typeof opacity !== 'number' || !(opacity >= 0 && opacity <= 1)) {
    throw new Mnv2Error('E_INPUT_TYPE', `opacity must be from 0 to 1, not ${opacity}`);
  }
  const background = options.background ?? 0;
  const alpha = Math.round(opacity * 255);
  // One RGBA word per class, in the platform's byte order.
  const lut = new Uint32Array(256);
  const bytes = new Uint8Array(lut.buffer);
  for (const { index, color } of classes) {
    if (index === background) continue;
    const [r, g, b] = options.colors?.[index] ?? color;
    bytes.set([r, g, b, alpha], index * 4);
  }
  const data = new Uint8ClampedArray(width * height * 4);
  const words = new Uint32Array(data.buffer);
  for (let i = 0; i < mask.length; i++) words[i] = lut[mask[i]];
  return typeof ImageData === 'function' ? new ImageData(data, width, height) : { data, width, height };
}
