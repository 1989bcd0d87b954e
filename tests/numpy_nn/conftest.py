import pytest
import torch


@pytest.fixture(autouse=True)
def _torch_on_one_thread():
    # The twins are tiny; on the shared 2-core machines torch's second thread only waits for a core.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
