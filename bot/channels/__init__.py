"""Input channels (Telegram, SMS/WhatsApp over Twilio, web chat) and outbound delivery."""
