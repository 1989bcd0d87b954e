"""Views of the Train section: run panels, sweeps, the learning timeline, charts, checkpoints, zips."""
