"""Relevance-weighted replay: the draw odds a trainer (and a player moving sliders) relies on."""

import math
import re

import numpy as np
import pytest
from scipy.stats import chisquare

from learner.sampler import (
    PHASE_APPROACH,
    PHASE_NAMES,
    PHASE_RECEDE,
    PHASE_SERVE,
    FrameStorage,
    LossPriority,
    RelevanceSampler,
    RelevanceWeights,
    SumTree,
    frame_phase_and_time,
    relevance_weight,
)
from models.contract import FEATURE_NAMES, HISTORY, NUM_FEATURES

SMALL_HISTORY = 2  # the sampler never looks inside obs, so tests keep frames tiny


def add_frames(storage, phase, time_to_reach=None, added_at=0.0, fill_value=0.0):
    """Add len(phase) frames; obs carry fill_value and targets (commands) fill_value / 100, so
    tests can tell them apart."""
    phase = np.asarray(phase, dtype=np.uint8)
    count = phase.size
    if time_to_reach is None:
        time_to_reach = np.zeros(count)
    fill = np.broadcast_to(np.asarray(fill_value, dtype=np.float32), (count,))
    obs = np.broadcast_to(fill[:, None, None], (count, storage.history, storage.num_features))
    targets = np.broadcast_to(fill[:, None] / 100, (count, storage.history))
    return storage.add(obs, targets, phase, time_to_reach, added_at)


def make_sampler(capacity, weights=None, seed=0):
    storage = FrameStorage(capacity, SMALL_HISTORY, NUM_FEATURES)
    return storage, RelevanceSampler(storage, weights, np.random.default_rng(seed))


def stored_weights(sampler):
    return np.asarray(sampler.tree.leaves[: len(sampler.storage)])


def expected_weights(sampler):
    storage, size = sampler.storage, len(sampler.storage)
    return relevance_weight(
        storage.phase[:size],
        storage.time_to_reach[:size],
        storage.near_event[:size],
        storage.added_at[:size],
        sampler.now,
        sampler.weights,
    )


# --- draw odds -------------------------------------------------------------------------------


def test_draws_follow_relevance_weights_and_never_hit_zero_weight_slots():
    weights = RelevanceWeights(
        approach=1.0,
        recede=0.3,
        serve=0.0,  # serve frames weigh zero: they must never come out
        urgency=3.0,
        urgency_tau=0.5,
        pre_event=2.5,
        recency_half_life=2.0,
    )
    storage, sampler = make_sampler(64, weights, seed=1)
    rng = np.random.default_rng(2)
    for minute in range(5):  # five batches of ten frames, one per minute of play
        phase = rng.choice([PHASE_APPROACH, PHASE_APPROACH, PHASE_RECEDE, PHASE_SERVE], 10)
        sampler.on_added(add_frames(storage, phase, rng.uniform(0, 3, 10), float(minute)))
    sampler.on_event([3, 4, 5, 17, 41])
    sampler.advance_time(4.5)
    sampler.update_priority([0], [0.0])  # an override to zero is never drawn either

    expected = expected_weights(sampler)
    expected[0] = 0.0
    np.testing.assert_allclose(stored_weights(sampler), expected, rtol=1e-12)
    assert (expected == 0).sum() >= 5 and (expected > 0).sum() >= 30

    draws = 200_000
    counts = np.bincount(sampler.sample(draws), minlength=len(storage))
    assert counts.size == 50  # only filled slots
    assert counts[expected == 0].sum() == 0
    positive = expected > 0
    f_exp = expected[positive] / expected[positive].sum() * draws
    assert chisquare(counts[positive], f_exp).pvalue > 0.001


def test_uniform_weights_are_exactly_uniform():
    storage, sampler = make_sampler(1000)  # starts with the relevance defaults
    rng = np.random.default_rng(3)
    slots = add_frames(storage, rng.integers(0, 3, 700), rng.uniform(0, 3, 700), rng.random(700))
    sampler.on_added(slots)
    sampler.on_event(slots[-30:])
    assert sampler.effective_sample_size() < 700

    sampler.set_weights(RelevanceWeights.uniform())
    assert np.all(stored_weights(sampler) == 1.0)
    assert sampler.effective_sample_size() == 700.0
    fresh = add_frames(storage, [PHASE_SERVE] * 5, added_at=9.0)
    sampler.on_added(fresh)
    sampler.on_event(fresh)
    assert np.all(stored_weights(sampler) == 1.0)
    assert sampler.effective_sample_size() == 705.0


def test_default_weights_draw_receding_frames_ten_times_less():
    storage, sampler = make_sampler(400, RelevanceWeights(urgency=0.0), seed=4)
    phase = [PHASE_APPROACH, PHASE_RECEDE] * 100
    sampler.on_added(add_frames(storage, phase, np.full(200, 0.8)))
    split = sampler.phase_split(sampler.sample(200_000))
    assert 9.5 < split["approach"] / split["recede"] < 10.5
    assert split["serve"] == 0.0


def test_urgency_favours_frames_close_to_the_paddle():
    storage, sampler = make_sampler(10)
    sampler.on_added(add_frames(storage, [PHASE_APPROACH] * 3, [0.0, 0.4, 3.0]))
    near, mid, far = stored_weights(sampler)
    assert near == pytest.approx(2.0)  # 1 + urgency * exp(0)
    assert mid == pytest.approx(1.0 + math.exp(-1.0))
    assert near > mid > far > 1.0


def test_moving_a_slider_reweighs_every_frame_at_once():
    storage, sampler = make_sampler(1000, RelevanceWeights(urgency=0.0), seed=5)
    sampler.on_added(add_frames(storage, [PHASE_APPROACH, PHASE_RECEDE] * 400))
    assert sampler.phase_split(sampler.sample(20_000))["approach"] > 0.88

    sampler.set_weights(RelevanceWeights(approach=0.1, recede=1.0, urgency=0.0))
    split = sampler.phase_split(sampler.sample(20_000))
    assert split["recede"] > 0.88
    assert set(split) == set(PHASE_NAMES)
    np.testing.assert_array_equal(stored_weights(sampler), expected_weights(sampler))


def test_hits_and_misses_boost_the_frames_just_before_them():
    storage, sampler = make_sampler(100, RelevanceWeights(urgency=0.0), seed=6)
    tick_minutes = 1 / 60 / 60
    # Two seconds of play at 60 Hz, then the player hits the ball.
    slots = add_frames(storage, [PHASE_APPROACH] * 100, added_at=np.arange(100) * tick_minutes)
    sampler.on_added(slots)
    event_slots = sampler.event_slots(event_minutes=99 * tick_minutes)
    np.testing.assert_array_equal(event_slots, np.arange(69, 100))  # the last half second
    sampler.on_event(event_slots)

    weight = stored_weights(sampler)
    assert np.all(weight[event_slots] == 2.0 * weight[0])
    draws = sampler.sample(100_000)
    share_near_event = np.isin(draws, event_slots).mean()
    assert share_near_event == pytest.approx(62 / 131, abs=0.01)  # 31 frames at 2 vs 69 at 1


def test_recency_halves_a_frames_weight_every_half_life():
    storage, sampler = make_sampler(10, RelevanceWeights(recency_half_life=1.5), seed=7)
    sampler.on_added(add_frames(storage, [PHASE_RECEDE] * 4, added_at=[0.0, 1.5, 3.0, 4.5]))
    sampler.advance_time(4.5)
    np.testing.assert_allclose(stored_weights(sampler), [0.0125, 0.025, 0.05, 0.1], rtol=1e-12)
    sampler.advance_time(6.0)  # every frame one half-life older
    np.testing.assert_allclose(stored_weights(sampler), [0.00625, 0.0125, 0.025, 0.05])
    counts = np.bincount(sampler.sample(150_000), minlength=4)
    assert counts[3] / counts[2] == pytest.approx(2.0, rel=0.05)

    sampler.set_weights(RelevanceWeights())  # recency off: age no longer matters
    assert np.all(stored_weights(sampler) == 0.1)


def test_recency_keeps_odds_right_for_frames_newer_than_the_clock():
    # The trainer may add frames before it next advances the clock.
    storage, sampler = make_sampler(10, RelevanceWeights(recency_half_life=1.0))
    sampler.on_added(add_frames(storage, [PHASE_RECEDE] * 2, added_at=[0.0, 1.0]))
    sampler.on_added(add_frames(storage, [PHASE_RECEDE], added_at=2.0))
    weight = stored_weights(sampler)
    assert weight[2] / weight[1] == pytest.approx(2.0) and weight[1] / weight[0] == 2.0
    # A clock far behind (a resumed session) is moved forward rather than overflowing.
    sampler.on_added(add_frames(storage, [PHASE_RECEDE], added_at=5000.0))
    weight = stored_weights(sampler)
    assert np.all(np.isfinite(weight)) and weight[3] == pytest.approx(0.1)


def test_update_priority_overrides_weights():
    storage, sampler = make_sampler(10, seed=8)
    sampler.on_added(add_frames(storage, [PHASE_APPROACH] * 4))
    sampler.update_priority([1, 2], [0.0, 5.0])
    counts = np.bincount(sampler.sample(10_000), minlength=4)
    assert counts[1] == 0 and counts[2] > counts[0] + counts[3]


# --- the ring --------------------------------------------------------------------------------


def test_ring_overwrites_the_oldest_frames_and_reweighs_their_slots():
    storage, sampler = make_sampler(8)
    for start in range(0, 20, 5):  # four batches of five: twenty frames into eight slots
        frames = np.arange(start, start + 5)
        phase = np.where(frames < 12, PHASE_APPROACH, PHASE_SERVE)
        sampler.on_added(add_frames(storage, phase, fill_value=frames))
    assert len(storage) == 8 and storage.write_position == 4
    kept = np.arange(12, 20)  # the newest eight, frame i in slot i % 8
    np.testing.assert_array_equal(storage.obs[kept % 8, 0, 0], kept)
    np.testing.assert_allclose(storage.targets[kept % 8, 0], kept / 100)
    assert np.all(storage.phase == PHASE_SERVE)
    assert np.all(stored_weights(sampler) == RelevanceWeights().serve)


def test_a_batch_larger_than_the_ring_keeps_its_newest_frames():
    storage, sampler = make_sampler(8)
    sampler.on_added(add_frames(storage, [PHASE_RECEDE] * 3))
    frames = np.arange(20)
    slots = add_frames(storage, [PHASE_APPROACH] * 20, fill_value=frames)
    np.testing.assert_array_equal(slots, (3 + frames) % 8)
    sampler.on_added(slots)
    assert len(storage) == 8 and storage.write_position == 23 % 8
    np.testing.assert_array_equal(storage.obs[slots[-8:], 0, 0], frames[-8:])
    assert np.all(storage.phase == PHASE_APPROACH)
    np.testing.assert_array_equal(stored_weights(sampler), expected_weights(sampler))


def test_a_partly_filled_ring_draws_only_filled_slots():
    storage, sampler = make_sampler(100)
    sampler.on_added(add_frames(storage, [PHASE_APPROACH, PHASE_RECEDE, PHASE_SERVE, 0, 1]))
    draws = sampler.sample(20_000)
    assert draws.min() >= 0 and draws.max() <= 4
    assert set(np.unique(draws)) == {0, 1, 2, 3, 4}


def test_capacity_one_works():
    storage, sampler = make_sampler(1)
    sampler.on_added(add_frames(storage, [PHASE_RECEDE] * 3, fill_value=[1, 2, 3]))
    assert len(storage) == 1 and storage.obs[0, 0, 0] == 3
    np.testing.assert_array_equal(sampler.sample(5), np.zeros(5))
    assert sampler.effective_sample_size() == 1.0


def test_storage_state_round_trip():
    storage, _ = make_sampler(8)
    add_frames(storage, [PHASE_APPROACH, PHASE_SERVE] * 5, np.arange(10) / 4, 2.0, np.arange(10))
    storage.mark_near_event([1, 2])
    restored = FrameStorage(8, SMALL_HISTORY, NUM_FEATURES)
    restored.load_state_dict(storage.state_dict())
    assert len(restored) == 8 and restored.write_position == storage.write_position
    for name in ("obs", "targets", "phase", "time_to_reach", "near_event", "added_at"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(storage, name))


def test_frames_saved_as_command_bins_are_restored_as_their_commands():
    """A trainer checkpoint from before commands were kept whole holds each tick's command
    bin; resumed, those frames train as the commands the bins stand for."""
    storage, _ = make_sampler(8)
    add_frames(storage, [PHASE_APPROACH] * 3)
    state = storage.state_dict()
    state["targets"] = np.array([[0] * SMALL_HISTORY, [10] * SMALL_HISTORY, [15] * SMALL_HISTORY])
    restored = FrameStorage(8, SMALL_HISTORY, NUM_FEATURES)
    restored.load_state_dict(state)
    np.testing.assert_allclose(restored.targets[:3, 0], [-1.0, 0.0, 0.5])


def test_a_command_outside_the_paddle_range_is_refused():
    storage, _ = make_sampler(8)
    for bad in (1.5, np.nan):
        with pytest.raises(ValueError, match="commands in"):
            add_frames(storage, [PHASE_APPROACH], fill_value=bad * 100)
    assert len(storage) == 0


# --- the sum tree ----------------------------------------------------------------------------


def test_sum_tree_matches_a_cumulative_sum_search():
    rng = np.random.default_rng(9)
    tree = SumTree(37)  # not a power of two: padding leaves must never be found
    values = np.zeros(37)
    for _ in range(20):
        indices = rng.integers(0, 37, 10)
        new = rng.choice([0.0, 0.5, 1.0, 3.0], 10)
        tree.set(indices, new)
        values[indices] = new  # repeated indices: the last value wins in both
    np.testing.assert_array_equal(tree.leaves, values)
    assert tree.total() == pytest.approx(values.sum())
    cumulative = np.cumsum(values)
    targets = rng.uniform(0, tree.total(), 1000)
    targets = targets[np.abs(targets[:, None] - cumulative[None, :]).min(axis=1) > 1e-9]
    np.testing.assert_array_equal(
        tree.sample(targets), np.searchsorted(cumulative, targets, side="right")
    )
    np.testing.assert_array_equal(tree.values([0, 5]), values[[0, 5]])


def test_sum_tree_never_lands_on_a_zero_leaf_at_the_edges():
    tree = SumTree(5)
    tree.set([0, 1, 2, 3, 4], [1.0, 2.0, 0.0, 0.0, 0.0])
    found = tree.sample([0.0, 1.0, 2.999, 3.0, 3.0 + 1e-9])  # total is 3: the last ones overshoot
    np.testing.assert_array_equal(found, [0, 1, 1, 1, 1])
    tree.set([0], [0.0])
    np.testing.assert_array_equal(tree.sample([0.0, 1.0]), [1, 1])


def test_sum_tree_stays_exact_after_many_updates():
    rng = np.random.default_rng(10)
    tree = SumTree(1000)
    for _ in range(200):
        tree.set(rng.integers(0, 1000, 50), rng.random(50) * 1e6)
    tree.set(np.arange(1000), np.zeros(1000))
    assert tree.total() == 0.0  # recomputed from children, no rounding residue


# --- reproducibility -------------------------------------------------------------------------


def filled_sampler(seed):
    storage, sampler = make_sampler(300, seed=seed)
    rng = np.random.default_rng(11)
    sampler.on_added(add_frames(storage, rng.integers(0, 3, 250), rng.uniform(0, 3, 250)))
    return storage, sampler


def test_same_seed_same_draws():
    _, first = filled_sampler(seed=12)
    _, second = filled_sampler(seed=12)
    np.testing.assert_array_equal(first.sample(500), second.sample(500))


def test_state_dict_round_trip_continues_the_same_draws():
    storage, sampler = filled_sampler(seed=13)
    sampler.sample(100)
    sampler.set_weights(RelevanceWeights(recede=0.5, pre_event=3.0, recency_half_life=2.0))
    sampler.update_priority([4, 5], [7.0, 0.0])
    state = sampler.state_dict()
    expected = sampler.sample(1000)

    restored = RelevanceSampler(storage, generator=np.random.default_rng(999))
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.sample(1000), expected)
    assert restored.weights == sampler.weights
    np.testing.assert_array_equal(stored_weights(restored), stored_weights(sampler))


def test_state_dict_refuses_a_storage_with_other_frames():
    _, sampler = filled_sampler(seed=14)
    other_storage, other = make_sampler(300)
    with pytest.raises(ValueError, match="state holds weights of 250 frames, the storage holds 0"):
        other.load_state_dict(sampler.state_dict())


def test_weights_dict_round_trip_and_unknown_keys():
    weights = RelevanceWeights(approach=2.0, recency_half_life=3.0)
    assert RelevanceWeights.from_dict(weights.to_dict()) == weights
    with pytest.raises(ValueError, match=re.escape("unknown relevance weight keys ['loudness']")):
        RelevanceWeights.from_dict({"approach": 1.0, "loudness": 3.0})
    with pytest.raises(ValueError, match="serve=-1"):
        RelevanceWeights.from_dict({"serve": -1})


# --- rejected arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "value", "message"),
    [
        ("approach", -1.0, "approach must be >= 0, got approach=-1.0"),
        ("recede", float("nan"), "recede must be finite, got recede=nan"),
        ("serve", float("inf"), "serve must be finite, got serve=inf"),
        ("urgency", -0.5, "urgency must be >= 0, got urgency=-0.5"),
        ("urgency_tau", 0.0, "urgency_tau must be > 0 seconds, got urgency_tau=0.0"),
        ("pre_event", float("-inf"), "pre_event must be finite, got pre_event=-inf"),
        ("event_window", -0.1, "event_window must be >= 0, got event_window=-0.1"),
        ("recency_half_life", -2.0, "recency_half_life must be >= 0, got recency_half_life=-2.0"),
        ("approach", "1", "approach must be a number, got approach='1'"),
        # Finite but huge: 1e308 crash-looped the trainer in every later session.
        ("approach", 1e308, "approach must be <= 1000, got approach=1e+308"),
        ("recede", 10**400, "recede must be finite, got recede=an integer of 1329 bits"),
        ("event_window", 11.0, "event_window must be <= 10, got event_window=11.0"),
    ],
)
def test_bad_weights_are_rejected_naming_the_term(term, value, message):
    weights = RelevanceWeights(**{term: value})
    with pytest.raises(ValueError, match=re.escape(message)):
        weights.validate()
    storage, sampler = make_sampler(4)
    with pytest.raises(ValueError, match=re.escape(message)):
        RelevanceSampler(storage, weights)
    before = sampler.weights
    with pytest.raises(ValueError, match=re.escape(message)):
        sampler.set_weights(weights)
    assert sampler.weights == before  # a rejected slider value changes nothing


def test_numpy_scalars_from_sliders_are_accepted_and_other_types_refused():
    storage, sampler = make_sampler(4)
    sampler.set_weights(RelevanceWeights(recede=np.float32(0.25), serve=np.int64(1)))
    with pytest.raises(TypeError, match="weights must be RelevanceWeights, got dict"):
        sampler.set_weights({"recede": 0.25})


def test_zero_event_window_is_allowed_and_marks_nothing():
    RelevanceWeights(event_window=0.0).validate()
    storage, sampler = make_sampler(4, RelevanceWeights(event_window=0.0))
    sampler.on_added(add_frames(storage, [PHASE_APPROACH] * 3, added_at=[0.0, 0.5, 1.0]))
    np.testing.assert_array_equal(sampler.event_slots(0.99), [])


def test_all_phase_weights_zero_is_rejected():
    weights = RelevanceWeights(approach=0.0, recede=0.0, serve=0.0)
    with pytest.raises(ValueError, match="all phase weights are zero"):
        weights.validate()


def test_frames_of_a_zero_weight_phase_are_drawn_evenly_until_others_exist():
    storage, sampler = make_sampler(8, RelevanceWeights(recede=0.0, serve=0.0))
    sampler.on_added(add_frames(storage, [PHASE_SERVE, PHASE_RECEDE, PHASE_SERVE]))
    counts = np.bincount(sampler.sample(30_000), minlength=3)
    assert chisquare(counts).pvalue > 1e-3  # uniform over the three stored frames
    assert sampler.effective_sample_size() == 3.0  # what the panel shows: all three count
    sampler.on_added(add_frames(storage, [PHASE_APPROACH]))
    np.testing.assert_array_equal(np.unique(sampler.sample(1000)), [3])  # the weights rule


def _ticks_away_from_the_player(count: int) -> list:
    """Ticks a trainer learns from: first the ball waiting to be served, then receding."""
    from game.engine import new_match

    waiting = new_match(3)
    assert waiting.serve_ticks > 0
    receding = waiting._replace(serve_ticks=0, ball_vx=0.85, ball_vy=0.2)
    return [(waiting if i < count // 2 else receding)._replace(tick=i + 1) for i in range(count)]


def test_a_trainer_with_receding_and_serve_weights_zero_trains_from_the_first_tick():
    """recede = serve = 0 passes validation; the frames before the first approach must still
    train the mirror, not stall it (each step once raised "all stored frames have weight
    zero")."""
    from learner.config import TrainerConfig
    from learner.trainer import MirrorTrainer

    weights = RelevanceWeights(recede=0.0, serve=0.0)
    weights.validate()
    trainer = MirrorTrainer(TrainerConfig(batch_size=4, seed=0), weights)
    losses = []
    for before in _ticks_away_from_the_player(40):
        trainer.add_tick(before, 0.5, [])
        losses.append(trainer.train_step())
    assert all(loss is not None and math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0]  # it learns the one command it saw
    assert trainer.sampler_stats()["phase_split"]["approach"] == 0.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([float("nan"), 1.0], "weights_values must be finite and >= 0, got [nan] at slots [0]"),
        ([1.0, -2.0], "weights_values must be finite and >= 0, got [-2.] at slots [1]"),
        ([1.0], "weights_values must have one value per slot (2), got 1"),
    ],
)
def test_update_priority_refuses_bad_values(values, message):
    storage, sampler = make_sampler(4)
    sampler.on_added(add_frames(storage, [PHASE_APPROACH] * 2))
    before = stored_weights(sampler).copy()
    with pytest.raises(ValueError, match=re.escape(message)):
        sampler.update_priority([0, 1], values)
    np.testing.assert_array_equal(stored_weights(sampler), before)


def test_constructor_and_call_errors_name_the_value():
    with pytest.raises(
        ValueError, match="capacity must be an integer of at least 1, got capacity=0"
    ):
        FrameStorage(0, SMALL_HISTORY, NUM_FEATURES)
    with pytest.raises(ValueError, match=re.escape("history=2.5")):
        FrameStorage(4, 2.5, NUM_FEATURES)
    with pytest.raises(ValueError, match="num_features=-1"):
        FrameStorage(4, SMALL_HISTORY, -1)
    with pytest.raises(ValueError, match="capacity=True"):
        SumTree(True)
    with pytest.raises(TypeError, match="storage must be a FrameStorage, got dict"):
        RelevanceSampler({})
    storage, sampler = make_sampler(4)
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator, got int"):
        RelevanceSampler(storage, generator=3)
    with pytest.raises(ValueError, match="the storage holds no frames yet"):
        sampler.sample(3)
    sampler.on_added(add_frames(storage, [PHASE_APPROACH] * 2))
    with pytest.raises(ValueError, match="n must be an integer of at least 1, got n=0"):
        sampler.sample(0)
    with pytest.raises(ValueError, match=re.escape("filled slots in 0..1, got values from 0 to 2")):
        sampler.update_priority([0, 2], [1.0, 1.0])
    with pytest.raises(ValueError, match=re.escape("filled slots in 0..1, got values from -1")):
        sampler.on_event([-1])
    with pytest.raises(ValueError, match="now_minutes must be finite, got now_minutes=nan"):
        sampler.advance_time(float("nan"))


def test_add_rejects_malformed_frames():
    storage, _ = make_sampler(4)
    obs = np.zeros((2, SMALL_HISTORY, NUM_FEATURES))
    targets = np.zeros((2, SMALL_HISTORY))
    with pytest.raises(ValueError, match=re.escape(f"(B, 2, {NUM_FEATURES}), got (2, 2, 3)")):
        storage.add(obs[:, :, :3], targets, [0, 0], [0, 0], 0.0)
    with pytest.raises(ValueError, match=re.escape("targets must have shape (2, 2), got (2,)")):
        storage.add(obs, targets[:, 0], [0, 0], [0, 0], 0.0)
    with pytest.raises(ValueError, match="phase codes must be in 0..2 .* got values from 0 to 3"):
        storage.add(obs, targets, [0, 3], [0, 0], 0.0)
    with pytest.raises(ValueError, match="time_to_reach must be finite and >= 0 seconds"):
        storage.add(obs, targets, [0, 0], [0, -1], 0.0)
    with pytest.raises(ValueError, match="added_at must be finite minutes of play"):
        storage.add(obs, targets, [0, 0], [0, 0], [0.0, float("inf")])
    assert len(storage) == 0  # nothing half-written


# --- labelling frames from observations ------------------------------------------------------


def test_frame_phase_and_time_read_the_newest_tick():
    obs = np.zeros((3, HISTORY, NUM_FEATURES), dtype=np.float32)
    approaching = FEATURE_NAMES.index("approaching")
    serving = FEATURE_NAMES.index("serving")
    time_to_reach = FEATURE_NAMES.index("time_to_reach")
    obs[0, -1, approaching] = 1.0
    obs[0, -1, time_to_reach] = 0.75
    obs[1, :-1, approaching] = 1.0  # approaching earlier in the window, receding now
    obs[2, -1, serving] = 1.0
    phase, seconds = frame_phase_and_time(obs)
    np.testing.assert_array_equal(phase, [PHASE_APPROACH, PHASE_RECEDE, PHASE_SERVE])
    np.testing.assert_array_equal(seconds, np.array([0.75, 0.0, 0.0], dtype=np.float32))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "over the 65536-byte limit"),
        ("[" * 1000 + "]" * 1000, "nested"),
        ('{"approach": ' + "1" * 400 + "}", "too large"),
        ('{"approach": 1e308}', "approach must be <= 1000"),
        ('{"weights": {"serve": 1e999}}', "does not fit a float"),
        ("{" * 10, "nested"),
    ],
)
def test_a_hostile_sampler_config_is_one_clear_error(tmp_path, text, message):
    from learner.sampler import read_sampler_config

    path = tmp_path / "weights.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_sampler_config(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


# --- loss-aware priorities ---------------------------------------------------------------------


def test_loss_aware_priorities_draw_high_loss_frames_more_often():
    priority = LossPriority(alpha=1.0, min_factor=0.25, max_factor=4.0)
    storage, sampler = make_sampler(64, RelevanceWeights(urgency=0.0), seed=6)
    assert sampler.adaptation_focus() == {}  # not adapting: nothing to show
    sampler.set_loss_priority(priority)
    slots = add_frames(storage, [PHASE_APPROACH] * 30 + [PHASE_RECEDE] * 10)
    sampler.on_added(slots)
    losses = np.where(np.arange(40) % 4 == 0, 2.0, 0.2)  # every 4th frame the mirror gets wrong
    sampler.update_losses(slots, losses)
    factor = np.clip(losses / losses.mean(), 0.25, 4.0)
    prior = np.where(np.arange(40) < 30, 1.0, 0.1)  # the sliders' relevance weights
    np.testing.assert_allclose(stored_weights(sampler), prior * factor, rtol=1e-12)

    draws = 200_000
    counts = np.bincount(sampler.sample(draws), minlength=40)
    expected = prior * factor / (prior * factor).sum() * draws
    assert chisquare(counts, expected).pvalue > 0.001
    high = np.arange(40) % 4 == 0
    # A quarter of the frames, now drawn about three times in four (one in four by prior).
    assert counts[high].sum() / draws > 0.7
    # What the panel shows: approach frames' share of the draws over their prior share.
    focus = sampler.adaptation_focus()
    weighted = prior * factor
    expected_approach = (weighted[:30].sum() / weighted.sum()) / (prior[:30].sum() / prior.sum())
    assert focus["approach"] == pytest.approx(expected_approach) and focus["serve"] is None
    assert focus["recede"] == pytest.approx(
        (weighted[30:].sum() / weighted.sum()) / (prior[30:].sum() / prior.sum())
    )

    # The sliders stay priors: moving one re-weighs, the loss factors stay.
    sampler.set_weights(RelevanceWeights(urgency=0.0, recede=1.0))
    np.testing.assert_allclose(stored_weights(sampler), factor, rtol=1e-12)
    # A frame written over starts again with factor 1.
    sampler.on_added(add_frames(storage, [PHASE_APPROACH]))
    assert sampler.loss_factor[40] == 1.0


def test_importance_weights_undo_the_loss_factor_share_of_the_odds():
    storage, sampler = make_sampler(8, RelevanceWeights.uniform(), seed=7)
    slots = add_frames(storage, [PHASE_APPROACH] * 4)
    sampler.on_added(slots)
    np.testing.assert_array_equal(sampler.importance_weights(slots), np.ones(4))  # off
    sampler.set_loss_priority(LossPriority(beta=1.0))
    sampler.update_losses(slots, [0.5, 1.0, 2.0, 0.5])  # mean 1: factors 0.5, 1, 2, 0.5
    weights = sampler.importance_weights(np.array([0, 1, 2]))
    np.testing.assert_allclose(weights, [1.0, 0.5, 0.25])  # each x its odds: equal in mean
    with pytest.raises(ValueError, match="need 0 < min_factor <= 1 <= max_factor"):
        LossPriority(min_factor=2.0).validate()


def test_adaptive_state_round_trips_through_state_dict_and_the_trainer_checkpoint():
    from learner.config import TrainerConfig
    from learner.trainer import MirrorTrainer

    storage, sampler = make_sampler(8, seed=8, weights=RelevanceWeights.uniform())
    sampler.set_loss_priority(LossPriority(alpha=0.5))
    slots = add_frames(storage, [PHASE_APPROACH] * 4)
    sampler.on_added(slots)
    sampler.update_losses(slots, [0.1, 0.4, 0.9, 1.6])
    restored = RelevanceSampler(storage, generator=np.random.default_rng(0))
    restored.load_state_dict(sampler.state_dict())
    assert restored.loss_priority == LossPriority(alpha=0.5)
    assert restored.mean_loss == sampler.mean_loss
    np.testing.assert_array_equal(restored.loss_factor, sampler.loss_factor)
    np.testing.assert_array_equal(restored.sample(50), sampler.sample(50))

    trainer = MirrorTrainer(TrainerConfig(batch_size=8, seed=0))
    trainer.sampler.set_loss_priority(LossPriority(alpha=0.7, beta=0.3))
    for before in _ticks_away_from_the_player(40):
        trainer.add_tick(before, 0.5, [])
        trainer.train_step()
    learned = trainer.sampler.loss_factor[: len(trainer.storage)]
    assert math.isfinite(trainer.sampler.mean_loss) and np.ptp(learned) > 0
    again = MirrorTrainer(TrainerConfig(batch_size=8, seed=0))
    assert again.sampler.loss_priority is None
    again.load_checkpoint(trainer.checkpoint())
    assert again.sampler.loss_priority == LossPriority(alpha=0.7, beta=0.3)
    assert again.sampler.mean_loss == trainer.sampler.mean_loss
