"""`python -m zkml.web`: rewrite registry-abi.js from the compiled registry contract."""

from zkml.web import write_abi_script

print(f"wrote {write_abi_script()}")
