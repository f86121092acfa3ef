package main

const apiSecret = "GQxqpmyV3bakTvTNyUPBqmjJD80YAq8e"
