<?php
$mg = Mailgun::create('key-b8b3613c540d6a491b10ef6d29e76ca5');
