"""Running the assistant: the processes it is made of, starting them, keeping them up (`citybot`)."""
