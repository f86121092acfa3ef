DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'PASSWORD': 'g!4TuCsQ_&vShr'}}
SECRET_KEY = 'c!Zuv%t2RSZLqA5USS^bXNdbNeMfvZU6Xva7wPuG#L7Ww%4-+h'
