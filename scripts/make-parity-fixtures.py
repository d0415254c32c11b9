#!/usr/bin/python3
"""Reference tensors made by the libraries models are trained with, for test/preprocess-parity.test.ts.

Run with Debian's Python and its packages (PyPI is not needed):
    apt-get install -y python3-pil python3-numpy python3-opencv
    /usr/bin/python3 scripts/make-parity-fixtures.py
It draws its own input images (no randomness beyond a seeded numpy RandomState), resizes them with
Pillow and OpenCV as training code does, and writes PNG inputs, .npy references and cases.json
(what each reference is, in visionops' PreprocessSpec terms) to test/fixtures/parity/.
"""
import json
import os

import cv2
import numpy as np
import PIL
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'parity')


def scene():
    """160 x 120: gradients, a fine checkerboard, a zone plate, noise and hard edges; every resampler's weak spot."""
    h, w = 120, 160
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3), np.float64)
    img[..., 0] = x * 255 / (w - 1)
    img[..., 1] = y * 255 / (h - 1)
    img[..., 2] = 128 + 100 * np.sin(x / 9) * np.cos(y / 7)
    checker = ((x // 3 + y // 3) % 2) * 255
    region = (x >= 10) & (x < 60) & (y >= 10) & (y < 50)
    img[region] = checker[region][:, None]
    r2 = (x - 120) ** 2 + (y - 85) ** 2
    plate = (x >= 90) & (x < 150) & (y >= 60) & (y < 110)
    img[plate, 1] = 127.5 + 127.5 * np.cos(r2[plate] / 40)
    rng = np.random.RandomState(16)
    img[70:90, 20:40] = rng.randint(0, 256, (20, 20, 3))
    img[95:112, 60:80] = (255, 255, 255)
    img[100:106, 66:74] = (0, 0, 0)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def small():
    """41 x 31 of noise over a gradient, for enlarging (odd sides keep every rounding in play)."""
    rng = np.random.RandomState(17)
    y, x = np.mgrid[0:31, 0:41]
    base = np.stack([x * 6, y * 8, (x + y) * 3], axis=-1)
    return np.clip(base + rng.randint(-40, 41, (31, 41, 3)), 0, 255).astype(np.uint8)


def ultralytics_letterbox(img, new_shape, color=(114, 114, 114)):
    """Ultralytics' LetterBox.__call__ with auto=False, scaleFill=False, scaleup=True, center=True."""
    shape = img.shape[:2]
    r = min(new_shape[0] / shape[0], new_shape[1] / shape[1])
    new_unpad = int(round(shape[1] * r)), int(round(shape[0] * r))
    dw, dh = new_shape[1] - new_unpad[0], new_shape[0] - new_unpad[1]
    dw /= 2
    dh /= 2
    if shape[::-1] != new_unpad:
        img = cv2.resize(img, new_unpad, interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=color)
    return img, r, (left, top)


def torchvision_resize_centre_crop(pil, size, crop):
    """torchvision Resize(size) (an int: the shorter side, the longer truncated) then CenterCrop(crop), on a PIL image."""
    w, h = pil.size
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_w, new_h = int(size * w / h), size
    pil = pil.resize((new_w, new_h), Image.BILINEAR)
    left = int(round((new_w - crop) / 2.0))
    top = int(round((new_h - crop) / 2.0))
    return pil.crop((left, top, left + crop, top + crop))


def main():
    os.makedirs(OUT, exist_ok=True)
    images = {'scene': scene(), 'small': small()}
    for name, rgb in images.items():
        Image.fromarray(rgb).save(os.path.join(OUT, f'{name}.png'), optimize=True)
    # Read back as training code would: PIL in RGB, OpenCV in BGR.
    pil = {name: Image.open(os.path.join(OUT, f'{name}.png')).convert('RGB') for name in images}
    bgr = {name: cv2.imread(os.path.join(OUT, f'{name}.png'), cv2.IMREAD_COLOR) for name in images}
    cases = []

    def save(name, array, **case):
        np.save(os.path.join(OUT, f'{name}.npy'), np.ascontiguousarray(array))
        cases.append({'name': name, 'reference': f'{name}.npy', **case})

    pil_filters = {'pil-bilinear': Image.BILINEAR, 'pil-bicubic': Image.BICUBIC}
    cv_flags = {'opencv-linear': cv2.INTER_LINEAR, 'opencv-area': cv2.INTER_AREA, 'opencv-nearest': cv2.INTER_NEAREST}
    sizes = [('down', 'scene', 61, 47), ('up', 'small', 73, 53)]
    for interpolation, flag in pil_filters.items():
        for label, image, w, h in sizes:
            out = np.asarray(pil[image].resize((w, h), flag))
            save(f'{interpolation}-{label}', out, kind='resize', image=f'{image}.png', interpolation=interpolation, width=w, height=h)
    out = np.asarray(pil['scene'].resize((23, 17), Image.BILINEAR))
    save('pil-bilinear-down7', out, kind='resize', image='scene.png', interpolation='pil-bilinear', width=23, height=17)
    for interpolation, flag in cv_flags.items():
        for label, image, w, h in sizes:
            out = cv2.cvtColor(cv2.resize(bgr[image], (w, h), interpolation=flag), cv2.COLOR_BGR2RGB)
            save(f'{interpolation}-{label}', out, kind='resize', image=f'{image}.png', interpolation=interpolation, width=w, height=h)
    for w, h in [(80, 60), (40, 30)]:
        out = cv2.cvtColor(cv2.resize(bgr['scene'], (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        save(f'opencv-area-by{160 // w}', out, kind='resize', image='scene.png', interpolation='opencv-area', width=w, height=h)

    # Ultralytics' predictor: letterbox in BGR, then BGR -> RGB, HWC -> CHW, / 255.
    boxed, ratio, (left, top) = ultralytics_letterbox(bgr['scene'], (40, 64))
    tensor = boxed[..., ::-1].transpose(2, 0, 1).astype(np.float32) / 255
    save('ultralytics-letterbox', tensor, kind='tensor', image='scene.png', ratio=ratio, pad=[left, top],
         spec={'resize': {'mode': 'letterbox', 'width': 64, 'height': 40}, 'interpolation': 'opencv-linear', 'channelOrder': 'rgb', 'scale': 1 / 255,
               'mean': [0, 0, 0], 'std': [1, 1, 1], 'layout': 'nchw'})

    # torchvision's ImageNet eval transform: Resize(50), CenterCrop(48), ToTensor, Normalize.
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    cropped = np.asarray(torchvision_resize_centre_crop(pil['scene'], 50, 48)).astype(np.float32) / 255
    tensor = ((cropped - mean) / std).transpose(2, 0, 1)
    save('torchvision-centre-crop', tensor, kind='tensor', image='scene.png',
         spec={'resize': {'mode': 'shorter-side', 'size': 50, 'crop': {'width': 48, 'height': 48}}, 'interpolation': 'pil-bilinear',
               'channelOrder': 'rgb', 'scale': 1 / 255, 'mean': mean.tolist(), 'std': std.tolist(), 'layout': 'nchw'})

    # A Keras-style OpenCV pipeline: BGR as read, INTER_AREA, -1..1, channels last.
    tensor = cv2.resize(bgr['scene'], (64, 48), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1
    save('opencv-nhwc-bgr', tensor, kind='tensor', image='scene.png',
         spec={'resize': {'mode': 'fixed', 'width': 64, 'height': 48}, 'interpolation': 'opencv-area', 'channelOrder': 'bgr',
               'scale': 1 / 255, 'mean': [0.5, 0.5, 0.5], 'std': [0.5, 0.5, 0.5], 'layout': 'nhwc'})

    # Many small and odd sizes from one noise image, every interpolation: each reference is the
    # results for all sizes, flattened and concatenated in the order of `sizes`.
    noise = np.random.RandomState(18).randint(0, 256, (17, 23, 3)).astype(np.uint8)
    np.save(os.path.join(OUT, 'noise.npy'), noise)
    sweep_sizes = [(1, 1), (2, 3), (5, 2), (4, 5), (7, 7), (11, 3), (1, 30), (2, 25), (16, 16), (29, 23), (12, 31), (46, 34)]
    for interpolation, flag in cv_flags.items():
        out = np.concatenate([cv2.cvtColor(cv2.resize(noise[..., ::-1], size, interpolation=flag), cv2.COLOR_BGR2RGB).ravel() for size in sweep_sizes])
        save(f'sweep-{interpolation}', out, kind='sweep', image='noise.npy', interpolation=interpolation, sizes=sweep_sizes)
    for interpolation, flag in pil_filters.items():
        out = np.concatenate([np.asarray(Image.fromarray(noise).resize(size, flag)).ravel() for size in sweep_sizes])
        save(f'sweep-{interpolation}', out, kind='sweep', image='noise.npy', interpolation=interpolation, sizes=sweep_sizes)

    made_with = {'pillow': PIL.__version__, 'numpy': np.__version__, 'opencv': cv2.__version__}
    with open(os.path.join(OUT, 'cases.json'), 'w') as f:
        json.dump({'madeWith': made_with, 'cases': cases}, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
