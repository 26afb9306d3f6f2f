"""REINFORCE on Gymnasium's CartPole-v1, talking to the environment through its own API.

The policy is a small MLP that outputs action logits; each step samples an action from
``torch.distributions.Categorical`` and keeps its log-probability, so the episode's graph is
the list of those log-probabilities. At the end of an episode the discounted returns
(normalised: a simple baseline) weight ``-log_prob`` and one backward pass gives the
policy gradient. Training stops when the average return of the last 100 episodes reaches
``--target`` (475, CartPole-v1's own threshold; 195 was v0's), then the policy plays 100
fresh evaluation episodes.

Run::

    python examples/reinforce_cartpole.py          # several minutes on 2 cores

The code is ordinary PyTorch: ``import torch`` in place of ``import ember as torch`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import deque

if __name__ == "__main__":
    # One BLAS thread: these products are tiny, and OpenBLAS's spinning threads cost far
    # more than they gain on a busy 2-core machine. Must be set before NumPy loads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import ember as torch  # noqa: E402
from ember import nn  # noqa: E402
from ember.distributions import Categorical  # noqa: E402


class Policy(nn.Module):
    """Observation (4,) -> logits over the 2 actions.

    Args:
        obs_dim: observation size.
        n_actions: number of discrete actions.
        hidden: hidden units.

    Example:
        >>> Policy()(torch.zeros(4)).shape
        torch.Size([2])
    """

    def __init__(self, obs_dim: int = 4, n_actions: int = 2, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, n_actions))

    def forward(self, obs):
        return self.net(obs)


def discounted_returns(rewards: list[float], gamma: float):
    """G_t = r_t + gamma * G_{t+1}, normalised to zero mean and unit variance."""
    returns, g = [], 0.0
    for r in reversed(rewards):
        g = r + gamma * g
        returns.append(g)
    returns = torch.tensor(returns[::-1])
    # Normalising is a baseline (and a per-episode step size): fewer, steadier updates.
    return (returns - returns.mean()) / (returns.std() + 1e-8)


def run_episode(env, policy: Policy, seed: int | None = None, greedy: bool = False):
    """Play one episode; return (log-probabilities of the actions taken, rewards)."""
    obs, _ = env.reset(seed=seed)
    log_probs, rewards = [], []
    done = False
    while not done:
        logits = policy(torch.as_tensor(obs, dtype=torch.float32))
        dist = Categorical(logits=logits)
        action = logits.argmax() if greedy else dist.sample()
        obs, reward, terminated, truncated, _ = env.step(action.item())
        log_probs.append(dist.log_prob(action))
        rewards.append(float(reward))
        done = terminated or truncated
    return log_probs, rewards


def update_policy(optimizer, log_probs: list, rewards: list[float], gamma: float):
    """One REINFORCE step from an episode's log-probabilities and rewards; returns the loss.

    Args:
        optimizer: the policy's optimizer.
        log_probs: log-probabilities of the actions taken (0-dim tensors).
        rewards: the rewards received.
        gamma: discount factor.

    Example:
        >>> policy = Policy()
        >>> opt = torch.optim.Adam(policy.parameters())
        >>> logits = policy(torch.zeros(4))
        >>> lp = [Categorical(logits=logits).log_prob(torch.tensor(a)) for a in (0, 1)]
        >>> update_policy(opt, lp, [1.0, 1.0], 0.99).shape
        torch.Size([])
    """
    returns = discounted_returns(rewards, gamma)
    loss = -(torch.stack(log_probs) * returns).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--max-episodes", type=int, default=2000)
    p.add_argument("--target", type=float, default=475.0,
                   help="stop when the last 100 episodes average this return")
    p.add_argument("--gamma", type=float, default=0.99)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--eval-episodes", type=int, default=100)
    p.add_argument("--out", default="runs/cartpole")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=20)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Train until solved (or ``--max-episodes``), evaluate, and return the metrics.

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``).

    Example:
        >>> m = main(["--max-episodes", "2", "--eval-episodes", "1"])  # doctest: +SKIP
        >>> m["episodes"]  # doctest: +SKIP
        2
    """
    import gymnasium as gym

    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    env = gym.make("CartPole-v1")
    env.action_space.seed(args.seed)
    policy = Policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.lr)

    recent: deque[float] = deque(maxlen=100)
    history, env_steps, solved_at = [], 0, None
    for episode in range(1, args.max_episodes + 1):
        # Seed only the first reset: later resets continue the environment's own RNG.
        log_probs, rewards = run_episode(env, policy, seed=args.seed if episode == 1 else None)
        update_policy(optimizer, log_probs, rewards, args.gamma)

        total = sum(rewards)
        env_steps += len(rewards)
        recent.append(total)
        history.append(total)
        avg = statistics.fmean(recent)
        if episode % args.log_every == 0:
            print(f"episode {episode:5d}  return {total:5.0f}  average(100) {avg:6.1f}  "
                  f"{env_steps / (time.perf_counter() - t0):,.0f} env steps/s", flush=True)
        if len(recent) == 100 and avg >= args.target:
            solved_at = episode
            print(f"solved at episode {episode}: average return {avg:.1f} over the last 100 "
                  f"episodes ({time.perf_counter() - t0:.1f} s, {env_steps:,} env steps)")
            break
    train_seconds = time.perf_counter() - t0

    # Evaluation: fresh episodes, actions still sampled from the learned policy.
    eval_returns = []
    with torch.no_grad():
        for i in range(args.eval_episodes):
            _, rewards = run_episode(env, policy, seed=10_000 + args.seed * 1000 + i)
            eval_returns.append(sum(rewards))
    env.close()
    torch.save({"policy": policy.state_dict(), "optimizer": optimizer.state_dict(),
                "episode": len(history)}, os.path.join(args.out, "policy.pt"))

    metrics = {"episodes": len(history), "solved_at": solved_at,
               "train_avg100": statistics.fmean(recent),
               "eval_avg": statistics.fmean(eval_returns) if eval_returns else None,
               "env_steps": env_steps, "train_seconds": train_seconds,
               "seconds": time.perf_counter() - t0}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    if eval_returns:
        print(f"evaluation: average return {metrics['eval_avg']:.1f} over "
              f"{len(eval_returns)} episodes; total {metrics['seconds']:.1f} s")
    return metrics


if __name__ == "__main__":
    main()
