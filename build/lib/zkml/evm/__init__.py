"""Everything on-chain: compiler, local node, verifier contract, app contract."""
