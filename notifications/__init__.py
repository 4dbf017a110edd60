"""Mail outbox and delivery, supervision notices and bulletins as PDF, the scheduler's steps."""
