"""Support package for *Deep Learning from Scratch, graded*.

Small, plain modules that notebooks and tests import:

- :mod:`dlfs.data`      -- shipped datasets (MNIST, Fashion-MNIST, a CIFAR-10 sample) with checksums, and the
                          download path (full CIFAR-10 on demand)
- :mod:`dlfs.synthetic` -- seeded toy data: regression lines, two moons, spirals
- :mod:`dlfs.gradcheck` -- numerical gradients and relative error
- :mod:`dlfs.grading`   -- checks used by graded test cells, with learner-facing hints
- :mod:`dlfs.monitor`   -- a live training monitor with a static fallback figure
- :mod:`dlfs.plots`     -- static figures (image grids) that display themselves
- :mod:`dlfs.playground` -- the optimizer playground widget and decision boundaries (chapter 04)
- :mod:`dlfs.explorer`   -- the explorer widgets' common base: controls + a PNG static fallback
- :mod:`dlfs.diagnostics` -- activation histograms, gradient norms, regularization explorer (chapter 05),
                          training set-ups compared (chapter 07)
- :mod:`dlfs.convviz`   -- filter viewer, feature maps, convolution explorer, speed bars (chapter 06)
- :mod:`dlfs.build`     -- the course build: text sources -> nbgrader source -> release
- :mod:`dlfs.feedback`  -- keeps hidden tests out of nbgrader's feedback HTML

It holds no solution of any exercise: a learner may read every file in it.
This file imports nothing heavy so that ``python3 -m dlfs`` can bootstrap the
virtual environment with the standard library alone.
"""

__version__ = "0.1.0"
