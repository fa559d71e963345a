import pytest

from methods.common.config import resolve
from methods.common.errors import UserError
from methods.dyna import Config as DynaConfig
from methods.mbpo import Config, scheduled_length
from methods.registry import all_config_keys

FILE_CFG = {
    "variants": {
        "mbpo-sched": {"method": "mbpo", "paper_schedule": True},
        "mbpo-k5": {"method": "mbpo", "rollout_length": 5},
        "dyna-full": {"method": "dyna", "full_episode_rollouts": True},
    }
}


def cfg_for(variant, env="gym-Hopper-v5", cls=Config, **overrides):
    return resolve(cls, env, variant, FILE_CFG, overrides, all_config_keys())


def test_paper_schedule_is_linear_in_epochs():
    cfg = cfg_for("mbpo-sched")
    assert cfg.rollout_schedule == (20, 150, 1, 15)
    assert cfg.updates_per_step == 20 and cfg.epoch_length == 1000
    assert cfg.random_steps == 5000
    # MBPO's epochs count from the end of its 5000 exploration steps (jannerm/mbpo's
    # _initial_exploration_hook runs before epoch 0): epoch = (step - 5000) // 1000
    assert scheduled_length(cfg, 0) == 1
    assert scheduled_length(cfg, 25_999) == 1
    assert scheduled_length(cfg, 30_000) == 1  # epoch 25: int(1 + 5 / 130 * 14) = 1
    assert scheduled_length(cfg, 90_000) == int(1 + 65 / 130 * 14)
    assert scheduled_length(cfg, 154_999) == 14  # epoch 149: int(1 + 129 / 130 * 14)
    assert scheduled_length(cfg, 155_000) == 15
    assert scheduled_length(cfg, 400_000) == 15


def test_per_env_updates_per_step_and_fixed_k():
    assert cfg_for("mbpo-k5", "gym-HalfCheetah-v5").updates_per_step == 40
    cfg = cfg_for("mbpo-k5")
    assert scheduled_length(cfg, 123_456) == 5


def test_dyna_full_uses_episode_length_and_reset_starts():
    cfg = cfg_for("dyna-full", "gym-InvertedPendulum-v5", DynaConfig)
    assert cfg.rollout_length == 1000 and cfg.rollout_start == "reset" and cfg.real_ratio == 0.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rollout_length": 1001}, "rollout length k must be in [1, episode length 1000]"),
        ({"rollout_length": 0}, "rollout length k must be in"),
        ({"real_ratio": 1.5}, "'real_ratio' must be in [0, 1]"),
        ({"rollout_schedule": [1, 2, 3]}, "min_epoch, max_epoch, min_k, max_k"),
        ({"rollout_mode": "TS2"}, "'rollout_mode' must be one of"),
        ({"num_elites": 9}, "num_elites <= ensemble_size"),
    ],
)
def test_bad_mbpo_settings_are_refused(overrides, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        cfg_for("mbpo-k5", **overrides)
