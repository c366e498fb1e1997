"""What administrators look at to run a network's library: content health, content gaps, coverage, and what
a person may see."""
