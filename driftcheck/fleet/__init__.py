"""The fleet stage, after the per-host comparison (which stays pure and per host): each audited
host against the other audited hosts of its peer group. See peers.py for the rule."""

from driftcheck.fleet.peers import PeerValues, apply_peers, peer_values, with_peers

__all__ = ["PeerValues", "apply_peers", "peer_values", "with_peers"]
