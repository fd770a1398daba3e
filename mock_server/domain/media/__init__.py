"""Seeded media a finished job serves: `images` (PNG/WebP/JPEG, grids, cut-outs) and `video` (MP4)."""
