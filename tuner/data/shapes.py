"""The design notes' task, generated: is a chosen grouping of atomic elements present anywhere in an image?

An image is a grid of 5x5-pixel cells; each cell is empty or holds one atomic element (a short
horizontal stroke, a short vertical stroke or a dot). The label is +1 when the grouping (a cross or an
L-corner made of those elements, in adjacent cells) appears somewhere, −1 otherwise. Every image holds
near misses (the grouping with one element changed), so counting elements or spotting one element does not
solve the task: a model has to relate elements across cells, which takes depth and filters.
Pure NumPy, deterministic from the seed.
"""

from __future__ import annotations

import numpy as np

from tuner.errors import InputError

CELL = 5
EMPTY, HSTROKE, VSTROKE, DOT = 0, 1, 2, 3
ELEMENTS = (HSTROKE, VSTROKE, DOT)
# Each grouping: (row, column, element) of the cells it occupies, relative to its top-left corner.
GROUPINGS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "cross": ((0, 1, VSTROKE), (1, 0, HSTROKE), (1, 1, DOT), (1, 2, HSTROKE), (2, 1, VSTROKE)),
    "corner": ((0, 0, VSTROKE), (1, 0, DOT), (1, 1, HSTROKE)),
}
DEFAULT_SAMPLES = 2000
DEFAULT_GROUPING = "cross"
DEFAULT_NOISE = 0.1
DENSITY = 0.15  # share of cells holding a random element, before groupings and near misses are placed


def stamps() -> np.ndarray:
    """The pixels of each cell content, indexed by EMPTY, HSTROKE, VSTROKE, DOT."""
    drawn = np.zeros((4, CELL, CELL), dtype="float32")
    middle = CELL // 2
    drawn[HSTROKE, middle, 1 : CELL - 1] = 1.0
    drawn[VSTROKE, 1 : CELL - 1, middle] = 1.0
    drawn[DOT, middle, middle] = 1.0
    return drawn


def extent(grouping: str) -> tuple[int, int]:
    """Rows and columns of cells a grouping spans."""
    cells = GROUPINGS[grouping]
    return max(row for row, _, _ in cells) + 1, max(column for _, column, _ in cells) + 1


def contains(grid: np.ndarray, grouping: str) -> bool:
    """Whether the grouping appears anywhere in a grid of cell contents."""
    height, width = extent(grouping)
    rows, columns = grid.shape[0] - height + 1, grid.shape[1] - width + 1
    if rows < 1 or columns < 1:
        return False
    found = np.ones((rows, columns), dtype=bool)
    for row, column, element in GROUPINGS[grouping]:
        found &= grid[row : row + rows, column : column + columns] == element
    return bool(found.any())


def _place(grid: np.ndarray, cells: list[tuple[int, int, int]], rng: np.random.Generator) -> None:
    """Write cells (relative positions and contents) at a random position of the grid."""
    height = max(row for row, _, _ in cells) + 1
    width = max(column for _, column, _ in cells) + 1
    top = rng.integers(0, grid.shape[0] - height + 1)
    left = rng.integers(0, grid.shape[1] - width + 1)
    for row, column, element in cells:
        grid[top + row, left + column] = element


def _near_miss(grouping: str, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """The grouping with one element swapped for another element or left out."""
    cells = list(GROUPINGS[grouping])
    index = int(rng.integers(len(cells)))
    row, column, element = cells[index]
    others = [other for other in (EMPTY, *ELEMENTS) if other != element]
    cells[index] = (row, column, int(rng.choice(others)))
    return cells


def _grid(shape: tuple[int, int], grouping: str, positive: bool, rng: np.random.Generator) -> np.ndarray:
    """One grid of cells with the requested label: random elements, near misses, and the grouping if positive."""
    while True:
        occupied = rng.random(shape) < DENSITY
        grid = np.where(occupied, rng.choice(ELEMENTS, size=shape), EMPTY)
        _place(grid, _near_miss(grouping, rng), rng)
        if positive:
            _place(grid, list(GROUPINGS[grouping]), rng)
        else:
            _place(grid, _near_miss(grouping, rng), rng)
        if contains(grid, grouping) == positive:
            return grid


def render(grids: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Cell grids (N, rows, columns) as images (N, H, W) in [0, 1], blank beyond the last whole cell."""
    count, rows, columns = grids.shape
    pixels = stamps()[grids].transpose(0, 1, 3, 2, 4).reshape(count, rows * CELL, columns * CELL)
    images = np.zeros((count, *image_size), dtype="float32")
    images[:, : rows * CELL, : columns * CELL] = pixels
    return images


def generate(
    samples: int, image_size: tuple[int, int], grouping: str, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W, 1) in [0, 1] and labels ±1, half of each (one more −1 for odd N), in seeded order."""
    height, width = extent(grouping)
    shape = (image_size[0] // CELL, image_size[1] // CELL)
    if shape[0] < height or shape[1] < width:
        raise InputError(
            f"grouping {grouping} needs images of at least {height * CELL}x{width * CELL} pixels"
            f" (cells of {CELL} pixels); got {image_size[0]}x{image_size[1]}",
            key="data.image_size",
        )
    rng = np.random.default_rng(seed)
    labels = np.where(np.arange(samples) < samples // 2, 1, -1)
    rng.shuffle(labels)
    grids = np.stack([_grid(shape, grouping, bool(label > 0), rng) for label in labels])
    images = render(grids, image_size)
    if noise > 0:
        images = np.clip(images + rng.normal(0.0, noise, size=images.shape), 0.0, 1.0).astype("float32")
    return images[..., np.newaxis], labels.astype("int64")
