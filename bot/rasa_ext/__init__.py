"""Everything that extends or patches Rasa: the components, policies and stores
named in config.yml / endpoints.yml, the patches (`patches`), and the tuned
server and action server entry points."""
