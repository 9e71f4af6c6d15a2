"""torch.cnn's 1-D network runs its convolutions channels-last and draws dropout masks from PCG64
(both faster on the CPU); it must compute what the Conv1d blocks compute, outputs, gradients and
batch-norm statistics, and its dropout must be dropout: the same rate, scaling and reproducibility."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from emoframe_torch.networks import Dropout, TemporalCNN, masked_mean_max  # noqa: E402


def plain_reference(net: TemporalCNN, x, mask):
    """The blocks applied as the modules they are, over a (batch × channels × frames) copy: how
    torch.cnn ran before."""
    h = x.transpose(1, 2).contiguous()
    keep = mask.unsqueeze(1).float()
    for conv, bn, relu, _ in net.blocks:
        h = relu(bn(conv(h))) * keep
    return net.head(masked_mean_max(h.transpose(1, 2), mask))


def batch(seed: int = 0):
    torch.manual_seed(seed)
    lengths = torch.tensor([17, 5, 11, 1, 17, 9])
    mask = torch.arange(17).unsqueeze(0) < lengths.unsqueeze(1)
    return torch.randn(6, 17, 7) * mask.unsqueeze(-1), mask  # zero-padded, as the training loop pads


@pytest.mark.parametrize("layers", [1, 3])
def test_channels_last_network_equals_conv1d_blocks_outputs_gradients_and_statistics(layers):
    x, mask = batch(layers)
    net = TemporalCNN(in_dim=7, n_classes=4, channels=8, layers=layers, kernel=5, dropout=0.0)
    ref = copy.deepcopy(net)
    net.train(), ref.train()
    weights = torch.randn(6, 4)
    outs = []
    for model, run in ((net, lambda: net(x, mask)), (ref, lambda: plain_reference(ref, x, mask))):
        model.zero_grad()
        out = run()
        (out * weights).sum().backward()
        outs.append(out)
    torch.testing.assert_close(outs[0], outs[1], atol=1e-5, rtol=1e-4)
    for (name, p), q in zip(net.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=name)
    for a, b in zip(net.buffers(), ref.buffers(), strict=True):  # running mean/var and the batch count
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert int(net.blocks[0][1].num_batches_tracked) == 1
    net.eval(), ref.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(x, mask), plain_reference(ref, x, mask), atol=1e-5, rtol=1e-4)


def test_state_dict_is_that_of_the_conv1d_blocks():
    """Bundles saved before the change hold these parameter names and shapes; they must load unchanged."""
    net = TemporalCNN(in_dim=7, n_classes=4, channels=8, layers=2, kernel=5, dropout=0.3)
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["blocks.0.0.weight"] == (8, 7, 5) and shapes["blocks.1.1.running_var"] == (8,)
    assert "blocks.1.1.num_batches_tracked" in shapes and shapes["head.weight"] == (4, 16)


def test_dropout_rate_scaling_and_reproducibility():
    drop = Dropout(0.3).train()
    h = torch.ones(16, 32, 1, 200).contiguous(memory_format=torch.channels_last)
    torch.manual_seed(5)
    a = drop(h)
    assert torch.unique(a).tolist() == pytest.approx([0.0, 1 / 0.7])
    assert (a == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    # independent per element in either memory order: no channel or frame is all kept or all dropped
    assert (a == 0).float().mean((0, 2, 3)).min().item() > 0.2 and (a == 0).float().mean((0, 1, 2)).min().item() > 0.1
    torch.manual_seed(5)
    assert torch.equal(drop(h), a)  # torch.manual_seed decides the masks
    assert not torch.equal(drop(h), a)  # and every call draws new ones
    assert torch.equal(drop.eval()(h), h)


def test_dropout_gradient_and_fallbacks():
    drop = Dropout(0.5).train()
    h = torch.randn(4, 6, requires_grad=True)
    out = drop(h)
    out.sum().backward()
    torch.testing.assert_close(h.grad, (out != 0).float() * 2.0)
    strided = torch.randn(8, 10)[:, ::2]  # not dense: torch's own dropout
    assert ((drop(strided) == 0).float().mean().item()) == pytest.approx(0.5, abs=0.25)
    assert torch.equal(Dropout(0.0).train()(strided), strided)
    assert isinstance(drop, nn.Dropout)
