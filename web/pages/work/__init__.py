"""What a user does next: my work, the approval and spot-check queues, the inbox."""
