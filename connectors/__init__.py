"""One package per outside system; importing this registers every installed connector."""
