"""The demo city's catalog ships as package data; a deployment points CITY_FILE elsewhere."""
