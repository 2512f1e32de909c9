"""The pure scheduler: schedule(cib) -> Plan."""
