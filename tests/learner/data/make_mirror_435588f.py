"""Makes mirror-435588f.pt/.npz. Run at the game's commit 435588f (the first of contract 2),
from that checkout: ``python make_mirror_435588f.py tests/learner/data/mirror-435588f``.

A mirror that learned from 60 ticks of one slow rally: its checkpoint, and its scores for
16 of the windows it learned from, which today's game must reproduce when it resumes it.
"""

import sys

import numpy as np
import torch

from game.engine import new_match
from learner.config import TrainerConfig
from learner.trainer import MirrorTrainer

trainer = MirrorTrainer(TrainerConfig(batch_size=8, seed=0))
state = new_match(3)._replace(serve_ticks=0, ball_x=0.8, ball_vx=-0.6, ball_vy=0.1)
for tick in range(1, 61):
    moved = state._replace(tick=tick, ball_x=0.8 - 0.01 * tick, ball_y=0.5 + 0.002 * tick)
    trainer.add_tick(moved, 1.0 if tick % 3 else 0.0, [])
    trainer.train_step()
out = sys.argv[1]
with open(out + ".pt", "wb") as file:
    file.write(trainer.checkpoint())
obs = trainer.storage.obs[:16]
with torch.no_grad():
    logits = trainer.model(torch.from_numpy(obs)).numpy()
np.savez_compressed(out + ".npz", obs=obs, logits=logits)
