"""The statistics, on arrays of counts: every function takes all comparisons (and all looks) at once.

- `proportions`     two proportions compared: rates, z and Fisher p-values, the lift's score interval, sizes
- `score_interval`  the solver behind that interval (Miettinen-Nurminen limits of a rate ratio)
- `sequential`      the peeking-safe boundary: its p-values and multipliers at each look, the plan, the late stretch
- `dispersion`      how much periods vary beyond independent clicks, and the test that allows for it
- `bayes`           the chance to beat and shrunk lifts (JSON only: they decide nothing)
- `arrays`          the array types they share
"""
