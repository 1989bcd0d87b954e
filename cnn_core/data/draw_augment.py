"""Batched augmentation that turns MNIST digits into the variety people draw (torch).

Each image in a batch (N, 1, 28, 28) gets its own random shift, rotation, scale, slant and a
gentle elastic wobble (one resampling, so the digit is blurred only once), then its strokes are
made thicker or thinner. Used by ``scripts/train_default.py`` so the default model reads canvas
drawings, not only centred MNIST scans.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DrawnDigitAugment:
    """Ranges of the random changes; each is uniform in [−x, x] (scale: [1 − x, 1 + x])."""
    shift_px: float = 2.5        # translation, pixels
    rotate_deg: float = 12.0     # rotation
    scale: float = 0.12          # zoom
    aspect: float = 0.10         # extra horizontal stretch or squeeze
    shear: float = 0.15          # slant (x += shear · y)
    elastic_px: float = 1.2      # peak displacement of the smooth elastic field, pixels
    thickness: float = 0.8       # stroke width: > 0 blends towards a 3×3 dilation, < 0 towards erosion

    def __call__(self, x, generator=None):
        """x: float (N, 1, H, W) in [0, 1] → a new tensor of the same shape, values in [0, 1]."""
        import torch
        import torch.nn.functional as F

        n, _, h, w = x.shape
        g = generator

        def u(*shape):
            return torch.rand(*shape, generator=g) * 2 - 1

        ang = u(n) * math.radians(self.rotate_deg)
        s = 1 + u(n) * self.scale
        sx = s * (1 + u(n) * self.aspect)
        sh = u(n) * self.shear
        cos, sin = torch.cos(ang), torch.sin(ang)
        # affine_grid maps output coordinates to input coordinates (normalised to [-1, 1]),
        # so the inverse of "scale, then slant, then rotate" is what goes in the matrix.
        a = torch.zeros(n, 2, 3)
        a[:, 0, 0] = cos / sx
        a[:, 0, 1] = (sin - sh * cos) / sx
        a[:, 1, 0] = -sin / s
        a[:, 1, 1] = cos / s
        a[:, 0, 2] = u(n) * self.shift_px * 2 / w
        a[:, 1, 2] = u(n) * self.shift_px * 2 / h
        grid = F.affine_grid(a, (n, 1, h, w), align_corners=False)
        if self.elastic_px > 0:
            # A smooth random field: 4×4 random displacements, upsampled bicubically.
            coarse = u(n, 2, 4, 4) * (self.elastic_px * 2 / h)
            field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
            grid = grid + field.permute(0, 2, 3, 1)
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.thickness > 0:
            t = (u(n) * self.thickness).view(n, 1, 1, 1)
            thick = F.max_pool2d(out, 3, 1, 1)
            thin = -F.max_pool2d(-out, 3, 1, 1)
            out = torch.where(t > 0, out + t * (thick - out), out + (-t) * (thin - out))
        # canvas_to_mnist always scales the strongest ink to 1; thinned digits would be dimmer.
        peak = out.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)
        return (out / peak).clamp_(0.0, 1.0)
