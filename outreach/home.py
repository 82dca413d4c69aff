"""The home page panel of a user's own outreach work."""


def my_work(request):
    return None
