"""One module per area; each ``run(probe)`` measures one curve's series."""
