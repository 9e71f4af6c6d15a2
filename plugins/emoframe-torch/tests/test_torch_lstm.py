"""torch.lstm's BiLSTM runs without packing (faster on the CPU); it must compute exactly what a
bidirectional nn.LSTM over packed sequences computes, outputs and gradients, padding or not."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from emoframe_torch.networks import BiLSTMAttention  # noqa: E402


def packed_reference(net: BiLSTMAttention, x, mask):
    """The bidirectional nn.LSTM over packed sequences (how torch.lstm ran before), zeros on padding."""
    lengths = mask.sum(1).clamp(min=1).cpu()
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = net.lstm(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return out


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_padded_bilstm_equals_packed_outputs_and_gradients(layers):
    torch.manual_seed(layers)
    net = BiLSTMAttention(in_dim=7, n_classes=3, hidden=5, layers=layers, dropout=0.0)
    lengths = torch.tensor([13, 4, 9, 1, 13])
    mask = torch.arange(13).unsqueeze(0) < lengths.unsqueeze(1)
    # garbage on padded frames: neither direction may read it
    x = torch.randn(5, 13, 7)
    ours = net.encode(x, mask)
    ref = packed_reference(net, x * mask.unsqueeze(-1), mask)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-5)
    assert torch.all(ours[~mask] == 0)

    weights = torch.randn_like(ours)
    grads = []
    for encode in (lambda: net.encode(x, mask), lambda: packed_reference(net, x, mask)):
        net.zero_grad()
        (encode() * weights * mask.unsqueeze(-1)).sum().backward()
        grads.append({k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and any(k.endswith("_reverse") for k in grads[0])
    for k in grads[0]:
        torch.testing.assert_close(grads[0][k], grads[1][k], atol=1e-5, rtol=1e-4)


def test_state_dict_is_that_of_a_bidirectional_lstm():
    """Bundles saved before the change hold nn.LSTM's parameter names; they must load unchanged."""
    net = BiLSTMAttention(in_dim=4, n_classes=2, hidden=3, layers=2, dropout=0.1)
    keys = set(net.state_dict())
    assert {"lstm.weight_ih_l0", "lstm.weight_hh_l1_reverse", "lstm.bias_ih_l1", "head.weight"} <= keys
    assert keys == set(nn.ModuleDict({"lstm": net.lstm, "attention": net.attention, "head": net.head}).state_dict())
