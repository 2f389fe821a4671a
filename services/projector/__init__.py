"""Projector: builds the member service card (会员服务卡) read model from every service's events."""
