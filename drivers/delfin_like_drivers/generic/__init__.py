"""Drivers for arrays reached through standard protocols and MIBs, whatever their vendor."""
