"""Alerts coming in from the storages: the SNMP trap receiver (:mod:`.trap_receiver`)."""
