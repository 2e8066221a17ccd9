"""Tools built on the learning core: offline training, tuning, replay analysis,
the Gymnasium environment and the Minari export."""
