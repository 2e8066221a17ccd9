"""The learner: turns a player's ticks into a mirror that plays like them.

The learning core sits at the top (features, sampler, trainer, trainer_process, live,
mirror, headless, exporter, config, metrics, recordings); ``tools/`` holds what is built on
it (offline training, tuning, replay analysis, the Gymnasium env, the Minari export) and
``bench/`` every benchmark command. ``live.LiveLearner`` implements the ports that
``game/ports.py`` declares; ``main.py`` plugs it in.
"""
