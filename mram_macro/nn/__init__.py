"""Networks on the macro: the digits data, NumPy training (binarised, variation-aware,
multi-bit), tiling of layers larger than the array with a cost scheduler, and the accuracy demo
(``mram-macro digits``, ``make demo``)."""
