import numpy as np

from methods.chaos import growth_rate


def test_growth_rate_is_the_slope_before_saturation():
    t = np.arange(60)
    mean_log = np.minimum(-13.0 + 0.3 * t, 0.5)  # saturates above log 1 = 0 at t = 44
    assert abs(growth_rate(mean_log) - 0.3) < 1e-9


def test_growth_rate_needs_three_points():
    assert np.isnan(growth_rate(np.array([-13.0, 1.0, 2.0])))
