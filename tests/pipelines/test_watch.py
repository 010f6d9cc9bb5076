"""Following what runs elsewhere: a log file as another process writes it."""

from sagespec.backends.watch import follow_file


def test_a_log_is_followed_as_it_grows_until_its_step_ends_and_nothing_is_lost(tmp_path):
    log = tmp_path / "step.log"
    writes = iter(["epoch 1 loss", " 0.9\nepoch 2 ", "loss 0.5\nsaved", ""])
    states = iter([(None, False), (str(log), False), (str(log), False), (str(log), False), (str(log), True)])

    def sleep(_seconds):
        with log.open("a") as out:
            out.write(next(writes))

    # a partial line waits for its end; what was written just before the step ended is still read
    assert list(follow_file(lambda: next(states), sleep=sleep)) == ["epoch 1 loss 0.9", "epoch 2 loss 0.5", "saved"]
