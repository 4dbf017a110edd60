"""``duban simulate``: replay a policy day by day with scripted units (behaviour + the loop)."""
