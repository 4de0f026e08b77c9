"""The long-running node process (``funai node``): config, chain service, miner, P2P, API."""
