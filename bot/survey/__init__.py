"""The satisfaction survey: "How did we do? 1-5", asked once per conversation, and its answers."""
