"""PyTorch's training speed on the lab's two reference VAEs, for `tools/speed_vs_pytorch.ts`.

The MLP VAE is pytorch/examples' `vae/main.py` recipe (784-400-20, ReLU, Bernoulli decoder on
logits, summed BCE + KL, Adam 1e-3, batch 128); the convolutional VAE has our layer sizes
(conv 3x3/2 32, conv 3x3/2 64, dense hidden, 20-d code; the decoder mirrors it with transposed
convolutions). It trains on the float32 images in --data ([n, 784], values in [0, 1]) for
1 + --epochs epochs and prints one JSON line with the images per second of the last --epochs
(the first warms up). Threads: PyTorch's default (one per core) unless --threads is given.
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class MlpVae(nn.Module):
    def __init__(self, hidden, latent):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, log_var = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        return self.fc4(F.relu(self.fc3(z))), mu, log_var


class ConvVae(nn.Module):
    def __init__(self, hidden, latent):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, stride=2, padding=1)  # 28 -> 14
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2, padding=1)  # 14 -> 7
        self.enc = nn.Linear(7 * 7 * 64, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.dec = nn.Linear(latent, hidden)
        self.grid = nn.Linear(hidden, 7 * 7 * 64)
        self.up1 = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1)  # 7 -> 14
        self.up2 = nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1)  # 14 -> 28

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x.view(-1, 1, 28, 28)))))
        h = F.relu(self.enc(h.flatten(1)))
        mu, log_var = self.mu(h), self.log_var(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        g = F.relu(self.grid(F.relu(self.dec(z)))).view(-1, 64, 7, 7)
        return self.up2(F.relu(self.up1(g))).flatten(1), mu, log_var


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", choices=["mlp", "conv"], default="mlp")
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.from_numpy(np.fromfile(args.data, dtype=np.float32).reshape(-1, 784))
    n = x.shape[0]
    model = (MlpVae if args.arch == "mlp" else ConvVae)(args.hidden, args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch():
        order = torch.randperm(n)
        for start in range(0, n, args.batch):
            batch = x[order[start:start + args.batch]]
            logits, mu, log_var = model(batch)
            bce = F.binary_cross_entropy_with_logits(logits, batch, reduction="sum")
            kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
            optimizer.zero_grad()
            (bce + kl).backward()
            optimizer.step()

    epoch()
    started = time.perf_counter()
    for _ in range(args.epochs):
        epoch()
    seconds = time.perf_counter() - started
    print(json.dumps({
        "imagesPerSecond": n * args.epochs / seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
