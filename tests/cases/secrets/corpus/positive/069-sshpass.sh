sshpass -p 'UbrqyPY9FymK' scp build.tar deploy@10.0.0.5:/srv
