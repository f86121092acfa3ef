#!/bin/bash
mysqldump -h db -u backup -pId1IojguivYf shop > shop.sql
