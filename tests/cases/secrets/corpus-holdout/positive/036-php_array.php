return ['database' => ['password' => 'PXwE3&chZB2zHWg6']];
