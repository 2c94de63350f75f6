"""What every long study shares, by module.

- :mod:`skyclass.study.units`: one fingerprint, one record of a finished unit, one
  resume (reproductions, ablations, kang2023's nets, leaderboard cells).
- :mod:`skyclass.study.bagging`: bagging ensembles planned, materialised, fitted,
  kept and scored.
- :mod:`skyclass.study.folds`: runs side by side (median and spread, paired
  differences, the folds to run).
- :mod:`skyclass.study.session`: a run's log and the description of its data.
"""
