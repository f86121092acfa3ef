from slack_sdk import WebClient
client = WebClient(token="xoxb-791970489475-6470663928484-aq9UZ6P2b4ul19ITDYKyKAvl")
